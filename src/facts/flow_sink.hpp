// Where the packet path's rows go besides its message facts: each flow's row
// (when the flow ends, or a live snapshot writes it) and each ICMP error's.
// Declared here, between the two sides: the store implements it
// (store/run_writer.hpp), the run session wires it (run/store_analyzer.hpp),
// and pipeline::Analyzer calls it once per row, never per ordinary packet.
#pragma once

#include <cstdint>
#include <exception>

#include "decode/packet.hpp"
#include "facts/flow_facts.hpp"
#include "flow/flow_table.hpp"

namespace callwall::facts {

class FactSink;

/// An ICMP error as evidence, whether or not it matched a flow.
struct IcmpErrorFact {
    int64_t ts_us = 0;
    const decode::PacketMeta* packet = nullptr;  ///< the error's headers and what it quotes (valid during the call)
    uint64_t flow_id = 0;  ///< 0: no live flow matched
};

class FlowRowSink {
public:
    virtual ~FlowRowSink() = default;
    /// A flow's row: its first, or (`replace`) over the one a live snapshot
    /// wrote. May throw (the caller keeps the error for later).
    virtual void flow_row(const flow::Flow& f, const FlowAppInfo& app, bool replace) = 0;
    /// An ICMP error's row (only with rows per message). May throw.
    virtual void icmp_error(const IcmpErrorFact& e) = 0;
    /// The first error writing the facts met (the fact writer keeps it
    /// rather than throw on the packet path, and writes nothing more), then
    /// cleared; null: none.
    virtual std::exception_ptr take_error() noexcept = 0;
};

/// What the packet path writes to (not owned). A null member: dropped
/// (benchmarks, a run without a database).
struct RunSinks {
    FactSink* facts = nullptr;
    FlowRowSink* rows = nullptr;
};

}  // namespace callwall::facts
