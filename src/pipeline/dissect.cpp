// The dissect stage's dispatcher: probes flows against the analyzer registry
// and hands each flow's packets to the analyzer that accepted it. See
// pipeline/dissect.hpp; the analyzers are in pipeline/analyzers/.
#include "pipeline/dissect.hpp"

#include <algorithm>

#include "pipeline/app_analyzer.hpp"

namespace callwall::pipeline {
namespace {

// Payload packets a flow may show before it is given up as "none of ours".
// Every protocol here announces itself in its first packet or two (a DNS
// message, a TLS record, a QUIC Initial, a STUN request); 8 allows for
// leading junk and retransmissions.
constexpr uint8_t kClassifyPackets = 8;
// Calling apps may open a media flow with their own protocol (a session
// handshake, keep-alives, their own relay framing) before RTP starts, more
// than kClassifyPackets datagrams in: a UDP flow no row took by then is
// offered to the media row ("rtc") alone, up to this many payload packets.
// The rtc row confirms RTP over several packets and gives up by itself
// (RtcAnalyzer::kGiveUpPackets), so a junk flow it takes costs at most that.
constexpr uint8_t kLateMediaPackets = 64;

}  // namespace

struct Dissector::Impl {
    Impl(facts::FactSink* sink, facts::FactSink* extra) {
        shared.sink = sink ? sink : &null_sink;
        if (extra) {
            tee = std::make_unique<facts::TeeSink>(*shared.sink, *extra);
            shared.sink = tee.get();
        }
        make_analyzers();
    }

    DissectShared shared;
    std::span<const AnalyzerRow> rows = registry();
    /// The row offered late UDP flows (kLateMediaPackets); rows.size(): none.
    size_t media_row = static_cast<size_t>(
        std::find_if(rows.begin(), rows.end(), [](const AnalyzerRow& r) { return r.name == "rtc"; }) - rows.begin());
    facts::NullSink null_sink;
    std::exception_ptr error;  ///< the first error on the packet path
    std::unique_ptr<facts::TeeSink> tee;  ///< the run's sink, then an extra one (events)
    // The flow row's strings (views handed out by describe, valid until the next call).
    char app_text[128];
    facts::FlowNames flow_names;
    std::string_view sni, proxy_target;  ///< of the last flow described, with naming_out

    void make_analyzers() {
        for (const AnalyzerRow& row : rows) shared.analyzers.push_back(row.make(shared));
        for (auto& an : shared.analyzers) an->bind(shared);
    }

    FlowApp& app(uint32_t slot) {
        auto& apps = shared.apps;
        if (slot >= apps.size()) {
            apps.resize(slot + 1);  // within the reserved capacity: no copy (else it doubles)
            shared.apps_ahead.after_growth(apps);
        }
        return apps[slot];
    }
    /// The analyzer that owns the flow, if any.
    AppAnalyzer* owner(const FlowApp& a) const noexcept {
        if (a.analyzer == FlowApp::kUndecided || a.analyzer == FlowApp::kUnknown) return nullptr;
        return shared.analyzers[a.analyzer - 1].get();
    }
    void reset(FlowApp& a) noexcept {
        if (AppAnalyzer* an = owner(a)) an->release(a);
        a = FlowApp{};
    }

    void on_packet(flow::Flow& f, uint32_t slot, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) {
        FlowApp& a = app(slot);
        if (a.analyzer == FlowApp::kUnknown || m.payload.empty() || m.later_fragment) return;
        if (f.proto != decode::kProtoTcp && f.proto != decode::kProtoUdp) return;
        if (a.analyzer == FlowApp::kUndecided) {
            int row = -1;
            if (a.tries < kClassifyPackets)
                row = classify(rows, f, d, m.payload);
            else if (classify(rows.subspan(media_row, 1), f, d, m.payload) == 0)
                row = static_cast<int>(media_row);
            if (row < 0) {
                const bool late_media = f.proto == decode::kProtoUdp && media_row < rows.size();
                if (++a.tries >= (late_media ? kLateMediaPackets : kClassifyPackets)) a.analyzer = FlowApp::kUnknown;
                return;
            }
            a.analyzer = static_cast<uint8_t>(row + 1);
            shared.analyzers[static_cast<size_t>(row)]->on_start(f, a, d, m.payload);
        }
        owner(a)->on_payload(f, a, d, m, ts_us);
    }

    // Fills the flow row's application columns and records the flow's names.
    // `final`: the flow ends (its analyzer emits what it still holds);
    // otherwise a snapshot of a live flow with no side effect on its state.
    void describe(flow::Flow& f, FlowApp& a, facts::FlowAppInfo& info, bool final) {
        info = facts::FlowAppInfo{};
        FlowColumns columns;
        AppAnalyzer* an = owner(a);
        if (an) an->describe(f, a, columns, final);
        facts::copy_app_facts(columns, info);
        info.ttl_first_c2s = f.packets[flow::kFromClient] ? f.ttl_first[flow::kFromClient] : -1;
        info.ttl_first_s2c = f.packets[flow::kFromServer] ? f.ttl_first[flow::kFromServer] : -1;
        info.roles = a.roles;
        const size_t n = an ? label_text(rows[a.analyzer - 1].labels, a.labels, app_text, sizeof app_text) : 0;
        info.app = std::string_view(app_text, n);
        if (shared.naming_out) {
            // Named where every DNS answer and TURN peer of the run is known.
            sni = a.sni ? shared.naming.get(a.sni) : std::string_view();
            proxy_target = a.proxy_target ? shared.naming.get(a.proxy_target) : std::string_view();
            return;
        }
        shared.naming.name_flow(f, a.sni, a.proxy_target, flow_names);
        for (size_t i = 0; i < flow_names.count; ++i) {
            const facts::FlowNameFact name{f.id, flow_names.entries[i].name, flow_names.entries[i].source};
            shared.sink->write(&name);
        }
        info.name = flow_names.name;
        info.name_source = flow_names.source;
    }

    void on_flow_end(flow::Flow& f, uint32_t slot, facts::FlowAppInfo& info) {
        FlowApp& a = app(slot);
        if (AppAnalyzer* an = owner(a)) an->on_flow_end(f, a);
        describe(f, a, info, true);
        reset(a);
    }
};

Dissector::Dissector(facts::FactSink* sink, facts::FactSink* extra) : impl_(std::make_unique<Impl>(sink, extra)) {}

void Dissector::reserve_flows(uint32_t max_flows) {
    try {
        impl_->shared.apps.reserve(max_flows);
    } catch (const std::bad_alloc&) {
        // A bounded address space (ulimit -v): the array doubles as it grows instead.
    }
}
void Dissector::size_for_flows(size_t flows) {
    for (auto& a : impl_->shared.analyzers) a->size_for_flows(flows);
}
Dissector::~Dissector() = default;

void Dissector::on_flow_created(flow::Flow&, uint32_t slot) noexcept {
    try {
        impl_->reset(impl_->app(slot));
    } catch (...) {
        // Growing the per-flow array failed (out of memory): leave it; the flow is still counted.
    }
}

void Dissector::on_packet(flow::Flow& f, uint32_t slot, flow::Dir dir, const decode::PacketMeta& m,
                          int64_t ts_us) noexcept {
    try {
        impl_->on_packet(f, slot, dir, m, ts_us);
    } catch (...) {
        // Only allocation (interning a new name, growing a pool chunk) can throw here.
        if (!impl_->error) impl_->error = std::current_exception();
    }
}

void Dissector::on_flow_end(flow::Flow& f, uint32_t slot, facts::FlowAppInfo& info) {
    impl_->on_flow_end(f, slot, info);
}

void Dissector::snapshot(flow::Flow& f, uint32_t slot, facts::FlowAppInfo& info) {
    impl_->describe(f, impl_->app(slot), info, false);
}

std::exception_ptr Dissector::take_error() noexcept {
    auto e = impl_->error;
    impl_->error = nullptr;
    return e;
}

DissectStats Dissector::stats() const noexcept {
    DissectStats s = impl_->shared.stats;
    const facts::Naming& n = impl_->shared.naming;
    s.names_dropped = n.table().dropped();
    s.addresses_dropped = n.addresses_dropped();
    s.peers_dropped = n.peers_dropped();
    for (const auto& an : impl_->shared.analyzers) an->add_stats(s);
    return s;
}

void Dissector::name_elsewhere(NamingOut* out) noexcept { impl_->shared.naming_out = out; }

std::pair<std::string_view, std::string_view> Dissector::last_name_inputs() const noexcept {
    return {impl_->sni, impl_->proxy_target};
}

const facts::FlowNames& Dissector::last_names() const noexcept { return impl_->flow_names; }

const facts::NameTable& Dissector::names() const noexcept { return impl_->shared.naming.table(); }

bool Dissector::take_new_peers(std::vector<decode::IpAddr>& out) { return impl_->shared.naming.take_new_peers(out); }

}  // namespace callwall::pipeline
