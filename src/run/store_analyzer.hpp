// A packet Analyzer wired to a run of a store: its facts and rows go to the
// store's writer (store/run_writer.hpp), and a sharded run's workers
// (AnalyzerConfig::workers ≥ 2, or fanout) record into recorders of their
// own that the merger writes into the store (run/shards/shards.hpp). The run
// session wires its analyzer so; the tests and benchmarks that run the
// packet path into a database too.
#pragma once

#include <cstdint>
#include <memory>

#include "pipeline/analyzer.hpp"

namespace callwall::store {
class RunWriter;
class Store;
}  // namespace callwall::store

namespace callwall::run {

class StoreAnalyzer {
public:
    /// Run `run_id` of `store` (not owned; null: facts and rows are dropped
    /// and no worker is started).
    StoreAnalyzer(store::Store* store, int64_t run_id, const pipeline::AnalyzerConfig& cfg = {});
    ~StoreAnalyzer();
    StoreAnalyzer(const StoreAnalyzer&) = delete;
    StoreAnalyzer& operator=(const StoreAnalyzer&) = delete;

    [[nodiscard]] pipeline::Analyzer& analyzer() noexcept { return *analyzer_; }

private:
    std::unique_ptr<store::RunWriter> writer_;  ///< before analyzer_: it points here
    std::unique_ptr<pipeline::Analyzer> analyzer_;
};

}  // namespace callwall::run
