// The plug-in shape of a protocol analyzer (Zeek's per-protocol analyzer
// folders, nDPI's init_*_dissector rows): each analyzer under
// pipeline/analyzers/ is one file pair declaring one AnalyzerRow
//   {name, transport, ports hint, probe, app labels, make}
// and the registry (pipeline/analyzers/registry.cpp) lists the rows in the
// order they are tried. The dispatcher (pipeline/dissect.cpp) probes a
// flow's first payload packets against the rows of its transport; the first
// row whose probe accepts owns the flow from then on, and its analyzer
// (AppAnalyzer, one instance per Dissector) gets every later payload, the
// flow's end, and fills the flow's columns. Analyzers emit facts through the
// FactSink and never see the store.
//
// Per-flow state: FlowApp (parallel to the flow table's slab) holds what the
// dispatcher and naming need, plus kStateBytes of state the owning analyzer
// interprets (trivially copyable, constructed in on_start). Large buffers
// come from bounded pools the analyzer owns (pipeline/buffer_pool.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "decode/packet.hpp"
#include "flow/flow_table.hpp"
#include "pipeline/dissect.hpp"
#include "facts/naming.hpp"
#include "facts/fact_sink.hpp"
#include "pipeline/tcp_stream.hpp"
#include "util/huge_pages.hpp"

namespace callwall::pipeline {

/// The application columns of a flow's row, filled by its analyzer (declared in facts/flow_facts.hpp).
using FlowColumns = facts::FlowAppFacts;

/// Per-flow application state.
struct FlowApp {
    static constexpr uint8_t kUndecided = 0;  ///< still being probed
    static constexpr uint8_t kUnknown = 0xFF;  ///< given up: none of ours
    static constexpr size_t kStateBytes = 96;

    uint8_t analyzer = kUndecided;  ///< registry row + 1 once a probe accepted
    uint8_t tries = 0;  ///< payload packets probed
    uint16_t labels = 0;  ///< bit i: the owning row's labels[i] (the app column)
    uint8_t roles = 0;  ///< flow::role_bit per side: asked, answered (the roles column)
    uint32_t sni = 0;  ///< interned server name the handshake asked for (naming)
    uint32_t proxy_target = 0;  ///< interned host asked of a proxy (naming)
    alignas(8) unsigned char state[kStateBytes];
};

/// The owning analyzer's view of FlowApp::state.
template <class T>
T& flow_state(FlowApp& a) noexcept {
    static_assert(sizeof(T) <= FlowApp::kStateBytes && alignof(T) <= 8);
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
    return *std::launder(reinterpret_cast<T*>(a.state));
}
template <class T>
T& start_state(FlowApp& a) noexcept {
    static_assert(sizeof(T) <= FlowApp::kStateBytes && alignof(T) <= 8);
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
    return *new (a.state) T{};
}

class AppAnalyzer;

/// A decoding worker of a sharded run (run/shards/shards.hpp) does not name
/// flows: what naming learns goes, in packet order, to the one place that
/// names every flow of the run, where the worker's own naming would have
/// seen only its share of the DNS answers and TURN peers.
class NamingOut {
public:
    virtual ~NamingOut() = default;
    /// A DNS answer: `client` resolved `address` through the names `chain`.
    virtual void answer(const decode::IpAddr& client, const decode::IpAddr& address, const std::string_view* chain,
                        size_t n, int64_t ts_us) = 0;
    /// A TURN peer or relayed address learnt on the TURN flow `f` (whose SNI,
    /// if any, is `sni`) at `ts_us`.
    virtual void turn_peer(const flow::Flow& f, std::string_view sni, int64_t ts_us, const decode::IpAddr& peer) = 0;
};

/// What every analyzer shares: the fact sink, the names, the counters, the
/// TCP delivery pool and the per-flow array (for buffers reclaimed from
/// another flow). Owned by the Dissector.
struct DissectShared {
    facts::FactSink* sink = nullptr;  ///< never null while packets flow
    facts::Naming naming;
    DissectStats stats;
    TcpDelivery tcp{stats};
    util::HugeVector<FlowApp> apps;  ///< by flow slab index
    util::PopulateAhead apps_ahead;  ///< with apps reserved for the flow bound (Dissector::reserve_flows)
    std::vector<std::unique_ptr<AppAnalyzer>> analyzers;  ///< one per registry row, same order
    std::string scratch;  ///< joined text before interning (reused: no allocation once warm)
    NamingOut* naming_out = nullptr;  ///< set: naming is learnt elsewhere (a sharded run's worker)

    /// A DNS answer for naming (see Naming::add_answer), or for naming_out.
    void add_answer(const decode::IpAddr& client, const decode::IpAddr& address, const uint32_t* chain, size_t n,
                    int64_t ts_us) {
        if (!naming_out) return naming.add_answer(client, address, chain, n, ts_us);
        std::string_view names[8];
        n = std::min<size_t>(n, 8);
        for (size_t i = 0; i < n; ++i) names[i] = naming.get(chain[i]);
        naming_out->answer(client, address, names, n, ts_us);
    }

    /// A slot from a bounded pool, counting refusals.
    template <class P>
    int32_t lend(P& pool) {
        const int32_t i = pool.acquire();
        if (i < 0) ++stats.pool_exhausted;
        return i;
    }
    [[nodiscard]] uint32_t index_of(const FlowApp& a) const noexcept { return static_cast<uint32_t>(&a - apps.data()); }
    /// The analyzer of the registry row named `name` (nullptr if none).
    [[nodiscard]] AppAnalyzer* find(std::string_view name) const noexcept;
};

class AppAnalyzer {
public:
    virtual ~AppAnalyzer() = default;
    /// Every analyzer exists: look up the ones this one hands bytes to.
    virtual void bind(DissectShared&) {}
    /// The row's probe accepted `first`, a payload from direction `d`: start the flow's state.
    virtual void on_start(flow::Flow& f, FlowApp& a, flow::Dir d, ByteView first) = 0;
    /// One payload packet of a flow this analyzer owns (the accepted one first).
    virtual void on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) = 0;
    /// The flow ends, before the final describe(): bytes still held are delivered.
    virtual void on_flow_end(flow::Flow&, FlowApp&) {}
    /// The flow's columns; `final`: the flow ends (outstanding facts are
    /// emitted), otherwise a snapshot of a live flow with no side effect.
    virtual void describe(flow::Flow& f, FlowApp& a, FlowColumns& out, bool final) = 0;
    /// Returns the flow's buffers (flow end, slot reuse, giving up).
    virtual void release(FlowApp& a) noexcept = 0;
    /// Adds the analyzer's own counters (pool reclaims and refusals) to `out`.
    virtual void add_stats(DissectStats&) const noexcept {}
    /// The run holds up to `flows` of this analyzer's flows at once (a
    /// probe's capture: one flow per probe it sent): the per-flow pools whose
    /// every flow needs a slot raise their bound to that many (never lower
    /// it). Memory is still taken in chunks as flows come, before the
    /// packets of a warm run.
    virtual void size_for_flows(size_t /*flows*/) {}
};

enum class L4 : uint8_t { Udp, Tcp };
struct PortRange {
    uint16_t lo = 0, hi = 0;
};
enum class PortUse : uint8_t {
    Any,  ///< no port says anything
    Hint,  ///< the probe is told whether a port matched (it may ask less of the bytes)
    Required,  ///< probed only when a port matches
};

struct ProbeInput {
    const flow::Flow& flow;
    flow::Dir dir;
    ByteView payload;
    bool port_hinted;  ///< the client or server port is in the row's ranges
};

struct AnalyzerRow {
    std::string_view name;
    L4 l4;
    PortUse port_use;
    std::span<const PortRange> ports;
    /// Cheap, no side effects: does this payload start a flow of ours?
    bool (*probe)(const ProbeInput&) noexcept;
    /// The app column's labels, in the order they print ("stun+turn+rtp").
    std::span<const std::string_view> labels;
    std::unique_ptr<AppAnalyzer> (*make)(DissectShared&);
};

[[nodiscard]] constexpr bool in_ranges(std::span<const PortRange> ranges, uint16_t port) noexcept {
    for (const PortRange& r : ranges)
        if (port >= r.lo && port <= r.hi) return true;
    return false;
}

/// The registry: every analyzer, in the order the probes are tried.
[[nodiscard]] std::span<const AnalyzerRow> registry() noexcept;

/// The first row of `rows` (of the flow's transport) whose probe accepts, or -1.
[[nodiscard]] int classify(std::span<const AnalyzerRow> rows, const flow::Flow& f, flow::Dir d,
                           ByteView payload) noexcept;

/// "dns", "stun+turn+rtp", ... from a row's labels and a flow's label bits
/// ("" for none), written into `buf`; returns the text's length.
size_t label_text(std::span<const std::string_view> labels, uint16_t bits, char* buf, size_t cap) noexcept;

}  // namespace callwall::pipeline
