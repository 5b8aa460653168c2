// What a flow's row goes to on one decoding thread, as the run wires it:
// the provisional outcome written with the row and the flows kept for the
// run's attribution (run/row_hook.hpp), the row itself (the store's writer),
// the ids of the rows a live run re-attributes, and the event stream's flow
// line (facts::FlowObserver). pipeline::Analyzer makes one call per row.
#pragma once

#include <cstdint>
#include <exception>
#include <vector>

#include "facts/flow_sink.hpp"

namespace callwall::run {

class RowHook;

class FlowEnds final : public facts::FlowRowSink {
public:
    /// None owned; any may be null (`writer` null: no row is written).
    FlowEnds(facts::FlowRowSink* writer, RowHook* hook, facts::FlowObserver* observer) noexcept
        : writer_(writer), hook_(hook), observer_(observer) {}

    /// Rows written elsewhere (the workers' merger): the hook's kept flows
    /// would miss them, so it keeps none.
    void rows_unseen() noexcept;
    /// Live runs: from now on, remember the id of every flow row written
    /// (refreshes, flows that end) until taken, so the live attribution
    /// re-attributes only those (attrib::LiveAttribution).
    void track_written() noexcept { track_written_ = true; }
    /// Where the ids are remembered (a sharded run's merger appends to it).
    [[nodiscard]] std::vector<uint64_t>* written_ids() noexcept { return &written_ids_; }
    /// Moves the ids remembered since the last call into `out` (any order, repeats possible).
    void take_written_ids(std::vector<uint64_t>& out) {
        out.swap(written_ids_);
        written_ids_.clear();
    }

    /// The outcome, the row, what is kept of it and the flow's event line,
    /// in that order (while the packet path holds an error: the event line only).
    void flow_row(const facts::FlowEnd& e) override;
    void icmp_error(const facts::IcmpErrorFact& e) override;
    std::exception_ptr take_error() noexcept override;

private:
    facts::FlowRowSink* writer_;
    RowHook* hook_;
    facts::FlowObserver* observer_;
    bool track_written_ = false;
    std::vector<uint64_t> written_ids_;  ///< since take_written_ids (track_written)
};

}  // namespace callwall::run
