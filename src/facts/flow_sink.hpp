// Where the packet path's rows go besides its message facts: each flow's row
// (when the flow ends, or a live snapshot writes it) and each ICMP error's.
// Declared here, between the two sides: the store's writer implements it
// (store/run_writer.hpp); the run wires what else a flow's end goes to
// around it (run/flow_ends.hpp: the row's provisional outcome, the flows
// kept for attribution, the event stream), and a decoding worker records it
// for the merger (run/shards/shard_worker.hpp). pipeline::Analyzer calls it
// once per row, never per ordinary packet.
#pragma once

#include <cstdint>
#include <exception>
#include <string_view>

#include "decode/packet.hpp"
#include "facts/flow_facts.hpp"
#include "facts/naming.hpp"
#include "flow/flow_table.hpp"

namespace callwall::facts {

class FactSink;

/// An ICMP error as evidence, whether or not it matched a flow.
struct IcmpErrorFact {
    int64_t ts_us = 0;
    const decode::PacketMeta* packet = nullptr;  ///< the error's headers and what it quotes (valid during the call)
    uint64_t flow_id = 0;  ///< 0: no live flow matched
};

/// A flow's row as the packet path hands it over: the flow ended (idle,
/// pushed out, or alive at the run's end), or a live refresh writes it.
struct FlowEnd {
    const flow::Flow& flow;
    /// What its dissectors found; the sink may set `app.outcome` (a view
    /// into storage it owns) before the row is written.
    FlowAppInfo& app;
    /// Its row, every column, built once from `flow` and `app` (record_of)
    /// for whatever the row goes to; a sink that sets `app.outcome` sets
    /// `record.outcome` alike.
    FlowRecord& record;
    /// The names the flow's flow_name rows were written with (empty when a
    /// worker names elsewhere: its merger names from `sni` and `proxy`).
    const FlowNames& names;
    std::string_view sni, proxy;  ///< what naming the flow takes (name_elsewhere)
    double capture_end = 0;  ///< the capture time of the run's latest frame
    bool live = false;  ///< a refresh's row of a flow that goes on
    bool replace = false;  ///< over a row a refresh wrote (a live row always is)
    /// The packet path holds an error it has not reported yet (a row that
    /// failed): this row is not written, though its end is still told.
    bool held_error = false;
};

class FlowRowSink {
public:
    virtual ~FlowRowSink() = default;
    /// A flow's row. May throw (the caller keeps the error for later).
    virtual void flow_row(const FlowEnd& e) = 0;
    /// An ICMP error's row (only with rows per message). May throw.
    virtual void icmp_error(const IcmpErrorFact& e) = 0;
    /// The first error writing the facts met (the fact writer keeps it
    /// rather than throw on the packet path, and writes nothing more), then
    /// cleared; null: none.
    virtual std::exception_ptr take_error() noexcept = 0;
};

/// Told of every flow when it ends (evicted, or alive at the run's end),
/// after its row was written: the event stream's flow lines. Must not throw.
class FlowObserver {
public:
    virtual ~FlowObserver() = default;
    /// `record`: the flow's row as it was written (FlowEnd::record).
    virtual void flow_ended(const flow::Flow& f, const FlowRecord& record) noexcept = 0;
};

/// What the packet path writes to (not owned). A null member: dropped
/// (benchmarks, a run without a database).
struct RunSinks {
    FactSink* facts = nullptr;
    FlowRowSink* rows = nullptr;
};

}  // namespace callwall::facts
