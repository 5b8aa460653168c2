// A packet Analyzer wired to a run of a store. See run/store_analyzer.hpp.
#include "run/store_analyzer.hpp"

#include "run/shards/shards.hpp"
#include "store/run_writer.hpp"

namespace callwall::run {

StoreAnalyzer::StoreAnalyzer(store::Store* store, int64_t run_id, const pipeline::AnalyzerConfig& cfg) {
    if (store) writer_ = std::make_unique<store::RunWriter>(*store, run_id, cfg.per_message_rows);
    analyzer_ = std::make_unique<pipeline::Analyzer>(writer_ ? writer_->sinks() : facts::RunSinks{}, cfg);
    if ((cfg.workers > 1 || cfg.fanout) && store)
        analyzer_->use_workers(std::make_unique<Shards>(*store, run_id, cfg, cfg.workers));
}

StoreAnalyzer::~StoreAnalyzer() = default;

}  // namespace callwall::run
