// TLS after a cleartext start. See pipeline/analyzers/starttls.hpp.
#include "pipeline/analyzers/starttls.hpp"

#include <cstddef>

namespace callwall::pipeline {

namespace st = proto::starttls;

static_assert(offsetof(StartTlsFlow, tls) == 0, "TlsAnalyzer reclaims buffers through the state's start");

namespace {

// The protocol of the flow's server port (or, when the client was guessed
// and it is the other one, of its client port).
st::Kind kind_of(const flow::Flow& f) noexcept {
    const st::Kind k = st::kind_of_port(f.server_port);
    return k != st::Kind::None ? k : st::kind_of_port(f.client_port);
}

}  // namespace

bool probe_starttls(const ProbeInput& in) noexcept {
    const st::Kind k = kind_of(in.flow);
    return k != st::Kind::None && st::opening(k, in.payload);
}

std::unique_ptr<AppAnalyzer> make_starttls(DissectShared& shared) { return std::make_unique<StartTlsAnalyzer>(shared); }

void StartTlsAnalyzer::bind(DissectShared& shared) { tls_ = static_cast<TlsAnalyzer*>(shared.find(kTlsRow.name)); }

void StartTlsAnalyzer::on_start(flow::Flow& f, FlowApp& a, flow::Dir, ByteView) {
    StartTlsFlow& t = start_state<StartTlsFlow>(a);
    t.kind = kind_of(f);
}

void StartTlsAnalyzer::start_tls(flow::Flow& f, FlowApp& a, flow::Dir d, uint32_t seq, ByteView p, int64_t ts_us) {
    StartTlsFlow& t = flow_state<StartTlsFlow>(a);
    t.phase[d] = kTls;
    t.tls_start[d] = seq;
    tls_->add(f, a, t.tls, d, seq, p, ts_us, TlsAnchor{true, seq - 1});
}

void StartTlsAnalyzer::on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) {
    StartTlsFlow& t = flow_state<StartTlsFlow>(a);
    const ByteView p = m.payload;
    if (p.empty() || t.phase[d] == kGaveUp) return;
    if (t.phase[d] == kTls) {
        if (!TlsAnalyzer::side_done(t.tls, d))
            tls_->add(f, a, t.tls, d, m.tcp_seq, p, ts_us, TlsAnchor{true, t.tls_start[d] - 1});
        return;
    }
    // Cleartext. A client segment opening a TLS handshake record starts the
    // client's TLS: after the request, or without one (a client speaking
    // TLS on the cleartext port; tshark reads that hello too). The
    // server's TLS (its ServerHello or an alert) starts only after the
    // client's.
    if ((d == flow::kFromClient || t.phase[flow::kFromClient] == kTls) && proto::tls::probe(p))
        return start_tls(f, a, d, m.tcp_seq, p, ts_us);
    if (d == flow::kFromClient && !t.asked) {
        if (const size_t end = st::upgrade_request(t.kind, p)) {
            t.asked = true;
            a.labels |= kStartTlsAsked;
            // MySQL's client sends its ClientHello without waiting: it may share the segment.
            if (end < p.size() && proto::tls::probe(p.subspan(end)))
                return start_tls(f, a, d, m.tcp_seq + static_cast<uint32_t>(end), p.subspan(end), ts_us);
        }
    }
    const size_t seen = size_t{t.clear[d]} + p.size();
    if (seen > kMaxCleartextBytes) {
        t.phase[d] = kGaveUp;
        return;
    }
    t.clear[d] = static_cast<uint16_t>(seen);
}

void StartTlsAnalyzer::describe(flow::Flow& f, FlowApp& a, FlowColumns& out, bool final) {
    tls_->describe_flights(f, a, flow_state<StartTlsFlow>(a).tls, out, final);
}

void StartTlsAnalyzer::release(FlowApp& a) noexcept { tls_->release_state(flow_state<StartTlsFlow>(a).tls); }

}  // namespace callwall::pipeline
