// A run's packet path wired to a run of a store: on one thread, a packet
// Analyzer whose facts go to the store's writer (store/run_writer.hpp) and
// each flow's row through the run's flow ends (run/flow_ends.hpp: the
// provisional outcome, the flows kept for attribution, the row, the event
// stream); sharded (AnalyzerConfig::workers ≥ 2, or ShardInputs::fanout),
// the reading thread's side of the workers (run/shards/sharded_run.hpp),
// which record into recorders of their own that the merger writes into the
// store. The calls below go to whichever the run has. The run session wires
// its packet path so; the tests and benchmarks that run the packet path
// into a database too.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "decode/frame.hpp"
#include "facts/flow_sink.hpp"
#include "facts/run_totals.hpp"
#include "flow/flow_table.hpp"
#include "pipeline/analyzer.hpp"
#include "pipeline/dissect.hpp"
#include "run/fanout_input.hpp"

namespace callwall::store {
class RunWriter;
class Store;
}  // namespace callwall::store

namespace callwall::run {

class FlowEnds;
class RowHook;
class ShardedRun;

/// What else a flow's row goes to (none owned; null: nothing).
struct RowWiring {
    /// Each row's outcome, and the rows kept for attribution (rows written
    /// with a blank outcome without it, which the first attribution pass
    /// rewrites). With workers, each takes its own (RowHook::for_worker)
    /// and this one keeps nothing: the merger writes the rows.
    RowHook* hook = nullptr;
    /// Told of each flow when it ends (the event stream; one decoding thread only).
    facts::FlowObserver* observer = nullptr;
};

class StoreAnalyzer {
public:
    /// Run `run_id` of `store` (not owned; null: facts and rows are dropped
    /// and no worker is started); `shards`: a sharded run's readers and
    /// collector (run/fanout_input.hpp).
    StoreAnalyzer(store::Store* store, int64_t run_id, const pipeline::AnalyzerConfig& cfg = {}, RowWiring wiring = {},
                  ShardInputs shards = {});
    ~StoreAnalyzer();
    StoreAnalyzer(const StoreAnalyzer&) = delete;
    StoreAnalyzer& operator=(const StoreAnalyzer&) = delete;

    /// Counts and processes one frame. Never throws.
    void process(const decode::RawFrame& frame) noexcept {
        if (sharded_) [[unlikely]]
            process_sharded(frame);
        else
            analyzer_->process(frame);
    }
    [[nodiscard]] facts::RunTotals& totals() noexcept;
    /// Writes every live flow's current state as its row (rows are replaced
    /// when the flow ends; pipeline::Analyzer::snapshot).
    void snapshot();
    /// The live refresh: writes only the live flows that changed since the
    /// last snapshot (pipeline::Analyzer::snapshot_changed). Returns how many.
    /// May throw StoreError.
    uint64_t snapshot_changed();
    /// The run's end: every flow still alive is written. May throw StoreError.
    void finish();
    /// Rethrows the first error the packet path kept; call between packets.
    void drain();
    /// Fanout: writes what the workers handed over for up to `ms`, then
    /// returns "" or the first reader error a worker met; otherwise "" at
    /// once. May throw StoreError.
    std::string wait_for_workers(int ms);
    /// The flow table's counts (with workers: theirs, summed; flows created: numbered so far).
    [[nodiscard]] flow::FlowTableStats flow_stats() const;
    /// Flows alive now (with workers: at their last progress mark).
    [[nodiscard]] size_t live_flows() const;
    /// The dissectors' counts (with workers: summed).
    [[nodiscard]] pipeline::DissectStats dissect_stats() const;
    /// Flows written so far (with workers: after finish()).
    [[nodiscard]] uint64_t flows_written() const noexcept;
    /// The written flows by final state, indexed by flow::ConnState (32 counts).
    [[nodiscard]] const uint64_t* state_counts() const noexcept;

    /// Live runs: from now on, remember the id of every flow row written
    /// (refreshes, flows that end) until taken, so the live attribution
    /// re-attributes only those (attrib::LiveAttribution).
    void track_written() noexcept;
    /// Moves the ids remembered since the last call into `out` (any order, repeats possible).
    void take_written_ids(std::vector<uint64_t>& out);

private:
    void process_sharded(const decode::RawFrame& frame) noexcept;

    std::unique_ptr<store::RunWriter> writer_;  ///< before the others: they point here
    std::unique_ptr<FlowEnds> ends_;
    std::unique_ptr<pipeline::Analyzer> analyzer_;  ///< a run on one thread
    std::unique_ptr<ShardedRun> sharded_;  ///< or a sharded run
};

}  // namespace callwall::run
