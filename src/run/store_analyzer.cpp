// A packet Analyzer wired to a run of a store. See run/store_analyzer.hpp.
#include "run/store_analyzer.hpp"

#include "run/flow_ends.hpp"
#include "run/shards/shards.hpp"
#include "store/run_writer.hpp"

namespace callwall::run {

StoreAnalyzer::StoreAnalyzer(store::Store* store, int64_t run_id, const pipeline::AnalyzerConfig& cfg, RowWiring wiring,
                             ShardInputs shards) {
    if (store) writer_ = std::make_unique<store::RunWriter>(*store, run_id, cfg.per_message_rows);
    facts::RunSinks sinks = writer_ ? writer_->sinks() : facts::RunSinks{};
    if (writer_ || wiring.hook || wiring.observer) {
        ends_ = std::make_unique<FlowEnds>(writer_.get(), wiring.hook, wiring.observer);
        sinks.rows = ends_.get();
    }
    analyzer_ = std::make_unique<pipeline::Analyzer>(sinks, cfg);
    if ((cfg.workers > 1 || shards.fanout) && store) {
        auto workers = std::make_unique<Shards>(*store, run_id, cfg, cfg.workers, wiring.hook, shards);
        shards_ = workers.get();
        analyzer_->use_workers(std::move(workers));
        if (ends_) ends_->rows_unseen();  // the merger writes the rows
    } else if (!writer_ && ends_) {
        ends_->rows_unseen();  // no row is written: nothing to keep
    }
}

StoreAnalyzer::~StoreAnalyzer() = default;

void StoreAnalyzer::track_written() noexcept {
    if (!ends_) return;
    ends_->track_written();
    if (shards_) shards_->track_written(ends_->written_ids());
}

void StoreAnalyzer::take_written_ids(std::vector<uint64_t>& out) {
    if (ends_)
        ends_->take_written_ids(out);
    else
        out.clear();
}

}  // namespace callwall::run
