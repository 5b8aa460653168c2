// TLS behind a proxy preamble. See pipeline/analyzers/proxy_tls.hpp.
#include "pipeline/analyzers/proxy_tls.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace callwall::pipeline {

static_assert(offsetof(ProxyTlsFlow, tls) == 0, "TlsAnalyzer reclaims buffers through the state's start");

bool probe_proxy_tls(const ProbeInput& in) noexcept {
    return in.dir == flow::kFromClient && proxy::probe(in.payload) != proxy::Kind::None;
}

std::unique_ptr<AppAnalyzer> make_proxy_tls(DissectShared& shared) {
    return std::make_unique<ProxyTlsAnalyzer>(shared);
}

struct ProxyTlsAnalyzer::Sink final : TcpSink {
    Sink(ProxyTlsAnalyzer& an, flow::Flow& fl, FlowApp& ap, flow::Dir dir) : self(an), f(fl), a(ap), d(dir) {}
    void bytes(uint32_t seq, ByteView data, int64_t ts_us) override { self.bytes(f, a, d, seq, data, ts_us); }
    // A preamble with a hole: its length is unknown.
    void gap(uint32_t) override {
        ProxyTlsFlow& p = flow_state<ProxyTlsFlow>(a);
        if (!p.preamble_done[d]) failed(p, d);
    }
    ProxyTlsAnalyzer& self;
    flow::Flow& f;
    FlowApp& a;
    flow::Dir d;
};

void ProxyTlsAnalyzer::bind(DissectShared& shared) { tls_ = static_cast<TlsAnalyzer*>(shared.find(kTlsRow.name)); }

void ProxyTlsAnalyzer::failed(ProxyTlsFlow& p, flow::Dir d) noexcept {
    p.preamble_done[d] = true;
    (d == flow::kFromClient ? p.tls.h.hello_failed : p.tls.h.server_failed) = true;
}

void ProxyTlsAnalyzer::on_start(flow::Flow&, FlowApp& a, flow::Dir, ByteView first) {
    ProxyTlsFlow& p = start_state<ProxyTlsFlow>(a);
    p.kind = proxy::probe(first);
    p.slot = s_.lend(pool_);
    if (p.slot < 0) failed(p, flow::kFromClient), failed(p, flow::kFromServer);
}

void ProxyTlsAnalyzer::on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) {
    ProxyTlsFlow& p = flow_state<ProxyTlsFlow>(a);
    if (TlsAnalyzer::side_done(p.tls, d)) return;
    if (!p.preamble_done[d]) return on_segment(f, a, d, m, ts_us);
    tunnel(f, a, d, m.tcp_seq, m.payload, ts_us);
}

void ProxyTlsAnalyzer::tunnel(flow::Flow& f, FlowApp& a, flow::Dir d, uint32_t seq, ByteView p, int64_t ts_us) {
    ProxyTlsFlow& st = flow_state<ProxyTlsFlow>(a);
    tls_->add(f, a, st.tls, d, seq, p, ts_us, TlsAnchor{true, st.tls_start[d] - 1});
}

void ProxyTlsAnalyzer::on_segment(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) {
    ProxyTlsFlow& p = flow_state<ProxyTlsFlow>(a);
    if (p.slot < 0) return;
    Sink sink(*this, f, a, d);
    s_.tcp.add(f, pool_.at(p.slot).stream[d], d, m, ts_us, sink);
    TcpStream& st = pool_.at(p.slot).stream[d];
    if (p.preamble_done[d]) {
        if (TcpOooStore* held = s_.tcp.held(st)) {
            // Tunnelled bytes held past a hole go to the TLS assembler (which keeps order itself).
            for (size_t i = 0; i < held->count; ++i) {
                const TcpOooStore::Piece& piece = held->pieces[i];
                tunnel(f, a, d, piece.seq, ByteView(held->data.data() + piece.off, piece.len), piece.ts_us);
            }
            s_.tcp.drop_held(st);
        }
    }
    if (p.preamble_done[0] && p.preamble_done[1]) {
        s_.tcp.release(pool_.at(p.slot).stream);
        pool_.release(p.slot);
        p.slot = -1;
    }
}

// In-order bytes of a direction still in its preamble (or just past it).
void ProxyTlsAnalyzer::bytes(flow::Flow& f, FlowApp& a, flow::Dir d, uint32_t seq, ByteView p, int64_t ts_us) {
    ProxyTlsFlow& st = flow_state<ProxyTlsFlow>(a);
    if (st.preamble_done[d]) return tunnel(f, a, d, seq, p, ts_us);
    if (st.slot < 0) return failed(st, d);
    Slot& s = pool_.at(st.slot);
    uint16_t& len = s.len[d];
    if (len == 0) st.tls_start[d] = seq;  // the stream's first byte
    const size_t before = len;
    const size_t k = std::min(p.size(), proxy::kMaxPreamble - before);
    std::memcpy(s.buf[d].data() + before, p.data(), k);
    len = static_cast<uint16_t>(before + k);
    const ByteView held(s.buf[d].data(), len);
    const proxy::Parsed r =
        d == flow::kFromClient ? proxy::parse_request(st.kind, held) : proxy::parse_reply(st.kind, held);
    if (r.status == proxy::Status::Failed || (r.status == proxy::Status::NeedMore && len >= proxy::kMaxPreamble))
        return failed(st, d);
    if (r.status == proxy::Status::NeedMore) return;
    st.preamble_done[d] = true;
    st.tls_start[d] += static_cast<uint32_t>(r.length);
    if (d == flow::kFromClient) {
        ++s_.stats.proxy_tunnels;
        a.proxy_target = s_.naming.intern(r.target);
        st.port = r.target_port;
    }
    const size_t rest = r.length - before;  // first tunnelled byte within p
    if (rest < p.size()) tunnel(f, a, d, seq + static_cast<uint32_t>(rest), p.subspan(rest), ts_us);
}

void ProxyTlsAnalyzer::on_flow_end(flow::Flow& f, FlowApp& a) {
    for (flow::Dir d : {flow::kFromClient, flow::kFromServer}) {
        const int32_t slot = flow_state<ProxyTlsFlow>(a).slot;  // again each time: delivery may release it
        if (slot < 0) return;
        Sink sink(*this, f, a, d);
        s_.tcp.flush(pool_.at(slot).stream[d], sink);
    }
}

void ProxyTlsAnalyzer::describe(flow::Flow& f, FlowApp& a, FlowColumns& out, bool final) {
    const ProxyTlsFlow& p = flow_state<ProxyTlsFlow>(a);
    out.proxy_port = p.port;
    tls_->describe_flights(f, a, p.tls, out, final);
}

void ProxyTlsAnalyzer::release(FlowApp& a) noexcept {
    ProxyTlsFlow& p = flow_state<ProxyTlsFlow>(a);
    tls_->release_state(p.tls);
    if (p.slot >= 0) {
        s_.tcp.release(pool_.at(p.slot).stream);
        pool_.release(p.slot);
        p.slot = -1;
    }
}

}  // namespace callwall::pipeline
