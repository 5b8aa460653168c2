// A packet Analyzer wired to a run of a store: its facts go to the store's
// writer (store/run_writer.hpp), each flow's row through the run's flow ends
// (run/flow_ends.hpp: the provisional outcome, the flows kept for
// attribution, the row, the event stream), and a sharded run's workers
// (AnalyzerConfig::workers ≥ 2, or ShardInputs::fanout) record into recorders of their
// own that the merger writes into the store (run/shards/shards.hpp). The run
// session wires its analyzer so; the tests and benchmarks that run the
// packet path into a database too.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "facts/flow_sink.hpp"
#include "pipeline/analyzer.hpp"
#include "run/fanout_input.hpp"

namespace callwall::store {
class RunWriter;
class Store;
}  // namespace callwall::store

namespace callwall::run {

class FlowEnds;
class RowHook;
class Shards;

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

    [[nodiscard]] pipeline::Analyzer& analyzer() noexcept { return *analyzer_; }

    /// Live runs: from now on, remember the id of every flow row written
    /// (refreshes, flows that end) until taken, so the live attribution
    /// re-attributes only those (attrib::LiveAttribution).
    void track_written() noexcept;
    /// Moves the ids remembered since the last call into `out` (any order, repeats possible).
    void take_written_ids(std::vector<uint64_t>& out);

private:
    std::unique_ptr<store::RunWriter> writer_;  ///< before the others: they point here
    std::unique_ptr<FlowEnds> ends_;
    std::unique_ptr<pipeline::Analyzer> analyzer_;
    Shards* shards_ = nullptr;  ///< the analyzer's workers, if any
};

}  // namespace callwall::run
