// QUIC analyzer. See pipeline/analyzers/quic.hpp.
#include "pipeline/analyzers/quic.hpp"

namespace callwall::pipeline {

namespace quic = proto::quic;
namespace tls = proto::tls;

bool probe_quic(const ProbeInput& in) noexcept { return quic::probe(in.payload); }

std::unique_ptr<AppAnalyzer> make_quic(DissectShared& shared) { return std::make_unique<QuicAnalyzer>(shared); }

void QuicAnalyzer::on_start(flow::Flow&, FlowApp& a, flow::Dir, ByteView) {
    QuicFlow& q = start_state<QuicFlow>(a);
    q.h.protocol = facts::HelloProtocol::Quic;
    a.labels |= kQuicLabel;
}

// A stalled Initial loses its buffer to newer ones (see TlsAnalyzer::lend).
int32_t QuicAnalyzer::lend(const flow::Flow& f, const FlowApp& a) {
    SlotOwner evicted;
    bool reclaimed = false;
    const uint64_t source = decode::hash_append(decode::kFnvOffsetBasis, f.client_ip);
    const int32_t i = pool_.acquire(source, SlotOwner{s_.index_of(a), 0}, &evicted, &reclaimed);
    if (reclaimed && evicted.flow < s_.apps.size()) {
        QuicFlow& x = flow_state<QuicFlow>(s_.apps[evicted.flow]);
        x.slot = -1;
        x.h.hello_failed = true;
        x.lost = true;
    }
    return i;
}

void QuicAnalyzer::on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) {
    QuicFlow& q = flow_state<QuicFlow>(a);
    if (d != flow::kFromClient) return;
    if (q.h.hello || q.h.hello_failed) {
        if (q.lost && !q.lost_counted) {  // the client went on: the bound cost this flow its hello
            q.lost_counted = true;
            ++s_.stats.hellos_cut;
        }
        return;
    }
    if (q.slot < 0) {
        q.slot = lend(f, a);
        if (q.slot < 0) return;
    }
    Slot& s = pool_.at(q.slot);
    if (!s.assembler) s.assembler.emplace(std::span<uint8_t>(s.buf));
    const quic::FeedResult r = s.assembler->feed(decryptor_, m.payload);
    pool_.touch(q.slot);  // progress: reclaimed last
    if (r.version && !q.h.quic_version) q.h.quic_version = r.version;
    on_done(a, q, r, ts_us);
    if (q.h.hello || q.h.hello_failed) {
        pool_.release(q.slot);
        q.slot = -1;
    }
}

void QuicAnalyzer::on_done(FlowApp& a, QuicFlow& q, const quic::FeedResult& r, int64_t ts_us) {
    if (r.status == quic::AssemblyStatus::Failed) {
        q.h.hello_failed = true;
        return;
    }
    if (r.status != quic::AssemblyStatus::Done) return;
    if (r.kind == quic::HandshakeKind::TlsClientHello) {
        auto ch = tls::decode_client_hello(r.client_hello);
        if (ch) {
            record_client_hello(s_, a, q.h, *ch, facts::HelloProtocol::Quic, ts_us);
            ++s_.stats.quic_hellos;
        } else {
            q.h.hello_failed = true;
        }
    } else if (r.kind == quic::HandshakeKind::GQuicChlo) {
        q.h.hello = true;
        q.h.protocol = facts::HelloProtocol::Gquic;
        q.h.ts_us = ts_us;
        a.sni = s_.naming.intern(as_text(r.gquic_sni));
        a.labels |= kGquicLabel;
    }
}

void QuicAnalyzer::describe(flow::Flow& f, FlowApp& a, FlowColumns& out, bool final) {
    const QuicFlow& q = flow_state<QuicFlow>(a);
    out.tls_server_hello = q.h.server_hello;
    out.tls_alert = q.h.alert;
    if (final) emit_hello(s_, f, a, q.h);
}

void QuicAnalyzer::release(FlowApp& a) noexcept {
    QuicFlow& q = flow_state<QuicFlow>(a);
    if (q.slot >= 0) pool_.release(q.slot);
    q.slot = -1;
}

}  // namespace callwall::pipeline
